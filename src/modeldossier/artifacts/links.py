"""Judge a symlink by where it points (its text, the folder holding it, the scanned root), never by the disk.

A verdict that depended on whether the target exists would pass on a CI runner what leaks a secret on a laptop,
so nothing here touches the file system.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# where a link must never point, whatever exists on the scanning machine
_SECRET_TARGET = re.compile(
    r"(^|/)\.ssh(/|$)|(^|/)\.cache/huggingface/(token|stored_tokens)$|(^|/)\.huggingface/token$|"
    r"(^|/)\.aws/(credentials|config)$|(^|/)\.netrc$|(^|/)\.git-credentials$|(^|/)\.docker/config\.json$|"
    r"(^|/)\.kube/config$|(^|/)\.gnupg(/|$)|(^|/)\.pypirc$|(^|/)\.npmrc$|(^|/)\.config/gcloud(/|$)|"
    r"(^|/)\.bash_history$|(^|/)\.env$|^/etc/|^/proc/|^/sys/|^/dev/|^/root(/|$)|^/var/run/secrets(/|$)|"
    r"(^|/)id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$")


@dataclass(frozen=True)
class LinkVerdict:
    """Where a symlink points, judged from its text and the scanned root only (never from the target's presence)."""

    lexical: str  # the target joined to the link's folder and normalised, without touching the file system
    inside: bool  # lexically inside the scanned root (or the same Hugging Face cache repo)
    secret: bool  # names a credential or system location


def judge_link(link: str, link_dir: str, roots: tuple[str, ...]) -> LinkVerdict:
    """Judge a link's text: ``link_dir`` is the folder holding it, ``roots`` the scanned root spellings."""
    home = link.startswith("~")
    joined = link if os.path.isabs(link) or home else os.path.join(link_dir, link)
    lexical = os.path.normpath(joined)
    inside = not home and any(lexical == r or lexical.startswith(r.rstrip("/") + "/") for r in roots)
    secret = not inside and bool(_SECRET_TARGET.search(lexical.replace("\\", "/")) or (
        home and _SECRET_TARGET.search(link[1:])))
    return LinkVerdict(lexical=lexical, inside=inside, secret=secret)
