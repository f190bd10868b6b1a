"""The card catalog, measured card types and the `cards` CLI."""


import pytest
from click.testing import CliRunner

from infopack.fat.catalog import (
    FAT32_MIN_CLUSTERS,
    _detect_filesystem,
    CardType,
    card_names,
    load_card,
    measure_card,
)
from infopack.cli.cards import cards
from infopack.errors import InfopackError

CLASSES = ["1GB", "2GB", "4GB", "8GB", "16GB", "32GB", "64GB", "128GB"]


def test_catalog_lists_every_class_smallest_first(tmp_path):
    assert card_names(tmp_path) == CLASSES


@pytest.mark.parametrize("name", CLASSES)
def test_every_class_is_fat32_with_a_conservative_margin_and_enough_clusters(name):
    card = load_card(name)
    assert card.filesystem == "fat32" and not card.measured
    assert card.nominal_bytes == int(name[:-2]) * 10**9
    assert card.usable_bytes <= card.nominal_bytes * 96 // 100
    assert card.usable_bytes > card.nominal_bytes * 96 // 100 - card.cluster_bytes
    assert card.usable_bytes % card.cluster_bytes == 0
    # FAT32 with fewer clusters than this is FAT16 by definition; readers may refuse it.
    assert card.usable_bytes // card.cluster_bytes >= FAT32_MIN_CLUSTERS


def test_cluster_sizes_follow_the_sd_formatter_where_it_uses_fat32():
    assert {n: load_card(n).cluster_bytes for n in CLASSES} == {
        "1GB": 8192, "2GB": 16384, "4GB": 32768, "8GB": 32768, "16GB": 32768, "32GB": 32768,
        "64GB": 65536, "128GB": 65536}


def test_exfat_option_uses_128k_clusters_above_32gb():
    card = load_card("64GB", filesystem="exfat")
    assert (card.filesystem, card.cluster_bytes) == ("exfat", 131072)
    assert load_card("8gb", filesystem="exfat").cluster_bytes == 32768


def test_fat16_only_for_small_classes():
    assert load_card("2GB", filesystem="fat16").cluster_bytes == 32768
    with pytest.raises(InfopackError, match="cannot be formatted fat16"):
        load_card("8GB", filesystem="fat16")


def test_margin_is_configurable():
    assert load_card("8GB", margin=0.5).usable_bytes == 4 * 10**9 - (4 * 10**9) % 32768
    with pytest.raises(InfopackError, match="margin"):
        load_card("8GB", margin=1.5)


def test_unknown_card_lists_known_names():
    with pytest.raises(InfopackError) as err:
        load_card("9GB")
    assert "unknown card type '9GB'" in str(err.value) and "8GB" in str(err.value) and "128GB" in str(err.value)


class FakeStatvfs:
    """What statvfs says for a freshly formatted "16 GB" card with 32 KiB clusters."""
    f_bsize = f_frsize = 32768
    f_blocks = 486_800
    f_bfree = f_bavail = 486_799


def test_measured_card_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr("infopack.fat.catalog.os.statvfs", lambda path: FakeStatvfs)
    path = measure_card(tmp_path, "batch-a", tmp_path / "types", filesystem="fat32")
    card = load_card("batch-a", measured_dir=str(tmp_path / "types"))
    assert path.name == "batch-a.toml"
    assert card == CardType("batch-a", 486_799 * 32768, 32768, "fat32", 486_800 * 32768, measured=True)
    assert "batch-a" in card_names(tmp_path / "types")
    # Nothing that dates or places the measurement.
    assert str(tmp_path) not in path.read_text() and "20" not in path.read_text().split("\n")[0]


def test_measured_file_system_is_detected_from_mounts_and_cluster_count(tmp_path):
    mounts = tmp_path / "mounts"
    card = tmp_path / "my card"
    card.mkdir()
    escaped = str(card).replace(" ", "\\040")       # how /proc/mounts writes a space
    for fstype, clusters, expected in [("vfat", 486_800, "fat32"), ("vfat", 60_000, "fat16"),
                                       ("exfat", 486_800, "exfat"), ("ext4", 486_800, "ext4")]:
        mounts.write_text(f"/dev/sdb1 {escaped} {fstype} rw 0 0\n")
        assert _detect_filesystem(card, clusters, str(mounts)) == expected


def test_measure_refuses_non_fat_file_systems_and_catalog_names(tmp_path):
    with pytest.raises(InfopackError, match="format the card FAT32"):
        measure_card(tmp_path, "x", tmp_path / "types", filesystem="ext4")
    with pytest.raises(InfopackError, match="catalog class"):
        measure_card(tmp_path, "8gb", tmp_path / "types", filesystem="fat32")
    with pytest.raises(InfopackError, match="must be letters"):
        measure_card(tmp_path, "../evil", tmp_path / "types", filesystem="fat32")


def test_broken_measured_file_gives_one_line_error(tmp_path):
    (tmp_path / "bad.toml").write_text("usable_bytes = 'x'\n")
    with pytest.raises(InfopackError, match="measure the card again"):
        load_card("bad", measured_dir=str(tmp_path))


def test_cli_lists_classes(tmp_path):
    result = CliRunner().invoke(cards, ["list", "--measured-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "8GB" in result.output and "32 KiB" in result.output and "FAT32" in result.output


def test_cli_measure_reports_unsupported_file_system(tmp_path):
    result = CliRunner().invoke(cards, ["measure", str(tmp_path), "--name", "t", "--measured-dir",
                                        str(tmp_path / "types")])
    # The test folder is not on a FAT card: a clear error, not a traceback.
    assert result.exit_code != 0
    assert isinstance(result.exception, InfopackError)
    assert "format the card" in str(result.exception)
