(function () {
  "use strict";
  var state = JSON.parse(document.getElementById("state").textContent);
  var m = state.messages;
  var decisions = state.decisions || {};
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

  function show() {
    var counts = {approve: 0, changes: 0, reject: 0};
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
    });
    counts.left = state.items.length - counts.approve - counts.changes - counts.reject;
    document.getElementById("summary").textContent = fill(m.summary, counts);
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
    fetch("api/decision", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Review-Token": state.token},
      body: JSON.stringify({item: id, decision: decision, comment: comment})
    }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (body) {
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
      fetch("api/signoff", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-Review-Token": state.token}, body: "{}"
      }).then(function (r) {
        return r.json().then(function (body) { return {ok: r.ok, body: body}; });
      }).then(function (res) {
        out.textContent = res.ok ? fill(m.sign_off_done, {items: res.body.items.join(", ")})
                                 : fill(m.sign_off_failed, {error: res.body.error});
      }).catch(function (e) { out.textContent = fill(m.sign_off_failed, {error: e.message}); });
    });
  }

  show();
}());
