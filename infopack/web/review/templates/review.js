(function () {
  "use strict";
  var state = JSON.parse(document.getElementById("state").textContent);
  var m = state.messages;
  var decisions = state.decisions || {};
  var signed = state.signed;               // null: signatures not known to this page
  var glossary = state.glossary || {};
  var serve = state.mode === "serve";

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] !== undefined ? values[k] : ""; });
  }

  if (!serve) {
    try {
      var kept = JSON.parse(localStorage.getItem(state.storage_key) || "null");
      if (kept && kept.decisions) { decisions = kept.decisions; }
    } catch (e) { /* private mode: decisions live in this page only */ }
  }

  function titles(ids) {
    return ids.map(function (id) { return state.titles[id] || id; }).join(", ");
  }

  // What a decision and a signature add up to (infopack/review/status.py item_state).
  function signState(d, isSigned) {
    if (d && d.decision === "approve") { return isSigned ? "approved_signed" : "approved_unsigned"; }
    if (d) { return d.decision + (isSigned ? "_but_signed" : ""); }
    return isSigned ? "signed_only" : "undecided";
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Review-Token": state.token}, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (answer) {
        if (!r.ok) { throw new Error(answer.error || String(r.status)); }
        return answer;
      });
    });
  }

  function show() {
    var counts = {approve: 0, changes: 0, reject: 0, signed: 0};
    state.items.forEach(function (id) {
      var d = decisions[id];
      var section = document.querySelector('section[data-item="' + id + '"]');
      if (!section) { return; }
      section.querySelectorAll("button[data-decision]").forEach(function (b) {
        b.classList.toggle("chosen", !!d && b.dataset.decision === d.decision);
        b.setAttribute("aria-pressed", !!d && b.dataset.decision === d.decision ? "true" : "false");
      });
      var label = d ? m[d.decision] : m.undecided;
      section.querySelector("[data-current]").textContent = label;
      var badge = document.querySelector('[data-badge="' + id + '"]');
      if (badge) { badge.textContent = d ? "· " + label : ""; }
      var box = section.querySelector("textarea");
      if (d && document.activeElement !== box) { box.value = d.comment || ""; }
      if (d) { counts[d.decision] += 1; }
      var place = section.querySelector("[data-signstate]");
      if (place && signed !== null) {
        var isSigned = signed.indexOf(id) >= 0;
        place.textContent = m["state_" + signState(d, isSigned)];
        place.dataset.state = signState(d, isSigned);
        var withdraw = section.querySelector("button[data-withdraw]");
        if (withdraw) { withdraw.hidden = !isSigned; }
        if (isSigned) { counts.signed += 1; }
      }
    });
    counts.left = state.items.length - counts.approve - counts.changes - counts.reject;
    document.getElementById("summary").textContent = fill(m.summary, counts)
      + (signed !== null ? " · " + fill(m.summary_signed, counts) : "");
    document.querySelectorAll("ul.glossary li[data-sk]").forEach(function (li) {
      var judged = glossary[li.dataset.sk + "\t" + li.dataset.nk];
      li.querySelectorAll("button[data-glossary]").forEach(function (b) {
        b.classList.toggle("chosen", b.dataset.glossary === judged);
        b.setAttribute("aria-pressed", b.dataset.glossary === judged ? "true" : "false");
      });
      var label = li.querySelector(".glossary-state");
      if (label && !label.dataset.busy) {
        label.textContent = judged === "confirm" ? m.glossary_confirmed
          : judged === "reject" ? m.glossary_rejected : m.glossary_open;
      }
    });
  }

  function keep() {
    var doc = {format: state.format, reviewer: state.reviewer, bundle: state.bundle, decisions: decisions};
    try { localStorage.setItem(state.storage_key, JSON.stringify(doc)); } catch (e) { /* ignore */ }
    return doc;
  }

  function save(section, decision) {
    var id = section.dataset.item;
    var comment = section.querySelector("textarea").value;
    var status = section.querySelector(".status");
    var entry = {decision: decision, comment: comment};
    if (!serve) {
      decisions[id] = entry;
      keep();
      status.textContent = m.saved;
      show();
      return;
    }
    status.textContent = "…";
    post("api/decision", {item: id, decision: decision, comment: comment}).then(function (body) {
      decisions = body.decisions;
      status.textContent = m.saved;
      show();
    }).catch(function (e) {
      status.textContent = m.save_failed + " (" + e.message + ")";
    });
  }

  document.querySelectorAll("section[data-item]").forEach(function (section) {
    section.querySelectorAll("button[data-decision]").forEach(function (b) {
      b.addEventListener("click", function () { save(section, b.dataset.decision); });
    });
    var withdraw = section.querySelector("button[data-withdraw]");
    if (withdraw) {
      withdraw.addEventListener("click", function () {
        if (!window.confirm(m.withdraw_confirm)) { return; }
        var status = section.querySelector(".status");
        post("api/withdraw", {item: section.dataset.item}).then(function (body) {
          decisions = body.decisions;
          signed = body.signed;
          status.textContent = fill(m.withdraw_done, {items: titles(body.withdrawn)});
          show();
        }).catch(function (e) { status.textContent = fill(m.withdraw_failed, {error: e.message}); });
      });
    }
    section.querySelectorAll("ul.glossary li[data-sk]").forEach(function (li) {
      li.querySelectorAll("button[data-glossary]").forEach(function (b) {
        b.addEventListener("click", function () {
          var key = li.dataset.sk + "\t" + li.dataset.nk;
          var label = li.querySelector(".glossary-state");
          var wanted = glossary[key] === b.dataset.glossary ? null : b.dataset.glossary;   // a second press undoes
          label.dataset.busy = "1";
          label.textContent = "…";
          post("api/glossary", {sk: li.dataset.sk, nk: li.dataset.nk, decision: wanted}).then(function (body) {
            glossary = body.glossary;
            delete label.dataset.busy;
            show();
            label.textContent += " · " + (body.signed ? m.glossary_saved_signed : m.glossary_saved_unsigned);
          }).catch(function (e) {
            delete label.dataset.busy;
            label.textContent = m.save_failed + " (" + e.message + ")";
          });
        });
      });
    });
    var box = section.querySelector("textarea");
    if (box) {
      box.addEventListener("change", function () {
        var d = decisions[section.dataset.item];
        if (d) { save(section, d.decision); }
      });
    }
    var video = section.querySelector("video");
    var cues = section.querySelectorAll("ol.cues li");
    if (video) {
      if (!serve && state.cues[section.dataset.item] && window.VTTCue) {
        var track = video.addTextTrack("subtitles", m.transcript, "ko");
        state.cues[section.dataset.item].forEach(function (c) { track.addCue(new VTTCue(c[0], c[1], c[2])); });
        track.mode = "showing";
      }
      video.addEventListener("timeupdate", function () {
        var t = video.currentTime;
        cues.forEach(function (li) {
          li.classList.toggle("now", t >= Number(li.dataset.start) && t < Number(li.dataset.end));
        });
      });
      cues.forEach(function (li) {
        li.addEventListener("click", function () { video.currentTime = Number(li.dataset.start); video.play(); });
      });
    }
  });

  var download = document.getElementById("download");
  if (download) {
    download.addEventListener("click", function () {
      var blob = new Blob([JSON.stringify(keep(), null, 2) + "\n"], {type: "application/json"});
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "review-" + state.bundle.id + "-" + state.reviewer + ".json";
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
  }

  var signoff = document.getElementById("signoff");
  if (signoff) {
    signoff.addEventListener("click", function () {
      if (!window.confirm(m.sign_off_confirm)) { return; }
      var out = document.getElementById("signoff-result");
      post("api/signoff", {}).then(function (body) {
        signed = body.signed;
        out.textContent = fill(m.sign_off_done, {items: titles(body.items)});
        show();
      }).catch(function (e) { out.textContent = fill(m.sign_off_failed, {error: e.message}); });
    });
  }

  show();
}());
