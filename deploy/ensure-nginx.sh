#!/usr/bin/env bash
# Make sure nginx is installed (Debian's nginx-light), as the topology command and its tests need it.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx is missing; install it (Debian: apt-get install nginx-light)" >&2
  exit 1
fi
# One apt at a time: two test workers (or this and ensure-chromium) may ask at once.
exec 9>/tmp/boxoffice-apt.lock
flock -w 600 9
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0  # installed by whoever held the lock
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
# The package starts a system nginx on port 80; the topology runs its own.
(service nginx stop || /usr/sbin/nginx -s stop || true) >/dev/null 2>&1
