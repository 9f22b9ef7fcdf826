#!/usr/bin/env bash
# Installs the system tools the test suite drives as real peers (sipp, baresip, kamailio,
# chromium), the text-to-speech engine, sox and the speech recogniser (pocketsphinx), and
# makes sure PostgreSQL and Redis are up.
# With --bench, also what the benchmarks compare against (Kannel's bearerbox and smsbox for
# bench/messaging); CI runs no benchmarks and does not ask for it.
# Idempotent: does nothing that is already done. Needs root (as CI is).
set -euo pipefail

bench=false
for arg in "$@"; do
  case "$arg" in
    --bench) bench=true ;;
    *)
      echo "setup-system: unknown option $arg (known: --bench)" >&2
      exit 2
      ;;
  esac
done

need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v baresip >/dev/null || need+=(baresip-core)
command -v kamailio >/dev/null || need+=(kamailio)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox libsox-fmt-all)
# Speech recognition for Conversational Intelligence (src/intelligence/asr).
command -v pocketsphinx_continuous >/dev/null || need+=(pocketsphinx)
[ -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin ] || need+=(pocketsphinx-en-us)
command -v sphinx_lm_convert >/dev/null || need+=(sphinxbase-utils)
# The Voice SDK browser tests (test/presence) drive Debian's Chromium with playwright-core.
[ -x /usr/bin/chromium ] || need+=(chromium)
# An SMSC on another SMPP implementation than npm smpp, for the interoperability tests.
perl -MNet::SMPP -e 1 2>/dev/null || need+=(libnet-smpp-perl)
if $bench; then
  [ -x /usr/sbin/bearerbox ] || command -v bearerbox >/dev/null || need+=(kannel)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-system: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Services the scale-out test run needs; start them if a previous run left them stopped.
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
