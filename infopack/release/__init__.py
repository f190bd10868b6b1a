"""Release: the card manifest, its seal (hashes, signatures), keys, the trust policy and approvals.

`CardManifest` is the signed payload (canonical bytes); `OutDir` is the only code that
knows the names of the files in a build folder.
"""

from infopack.release.card_manifest import CardManifest, CardManifestError
from infopack.release.outdir import OutDir

__all__ = ["CardManifest", "CardManifestError", "OutDir"]
