#!/usr/bin/env bash
# Make sure Debian's chromium (and CJK fonts, so Korean pages render in screenshots) is
# installed, as the shop's browser tests need it. Quick when both are there already.
set -euo pipefail
if { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } \
  && fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing; install it (Debian: apt-get install chromium fonts-noto-cjk)" >&2
  exit 1
fi
exec 9>/tmp/boxoffice-apt.lock  # one apt at a time (ensure-nginx.sh takes it too)
flock -w 600 9
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
