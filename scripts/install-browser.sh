#!/usr/bin/env bash
# Install headless Chromium + chromedriver (Debian packages) for the browser tests of the HTML report.
# Idempotent: does nothing when both are already on PATH. Needs root or sudo for apt-get.
# Usage: scripts/install-browser.sh        (then: .venv/bin/pytest -m browser)
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have chromium && have chromedriver; then
  echo "chromium and chromedriver already installed: $(chromium --version 2>/dev/null || echo chromium)"
  exit 0
fi

if ! have apt-get; then
  echo "apt-get not found: install Chromium and a matching chromedriver yourself; browser tests skip without them" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO="sudo -n"; else
    echo "not root and no sudo: cannot install chromium; browser tests will be skipped" >&2
    exit 0
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
echo "installed: $(chromium --version 2>/dev/null || echo chromium) / $(chromedriver --version 2>/dev/null | head -1)"
