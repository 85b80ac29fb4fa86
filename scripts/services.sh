# Helpers sourced by scripts/test.sh and scripts/bench.sh.

PCSCD_SOCKET=/run/pcscd/pcscd.comm

# Starts pcscd in the foreground mode as our own child if it is not running (there is no systemd here).
# Readers come from /etc/reader.conf.d/ (vsmartcard-vpcd declares two) plus test/fixtures/reader.conf.
ensure_pcscd() {
  if [ -S "$PCSCD_SOCKET" ] && pgrep -x pcscd >/dev/null; then return 0; fi
  if ! command -v pcscd >/dev/null; then
    echo "services: pcscd is not installed; PC/SC end-to-end tests will be skipped" >&2
    return 0
  fi
  if [ -f test/fixtures/reader.conf ] && [ "$(id -u)" -eq 0 ]; then
    install -m 0644 test/fixtures/reader.conf /etc/reader.conf.d/otpbridge-test
  fi
  mkdir -p /run/pcscd
  rm -f "$PCSCD_SOCKET"
  nohup pcscd --foreground --debug >"${TMPDIR:-/tmp}/otpbridge-pcscd.log" 2>&1 &
  for _ in $(seq 1 100); do [ -S "$PCSCD_SOCKET" ] && return 0; sleep 0.05; done
  echo "services: pcscd did not create $PCSCD_SOCKET" >&2
  return 1
}

# vpcd 3.3 sends length and APDU as two segments without TCP_NODELAY, so each APDU waits for a
# delayed ACK (about 44 ms). A quickack route for 127.0.0.2 avoids it without touching 127.0.0.1.
ensure_quickack_route() {
  if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
    echo "services: cannot add the quickack route; virtual-card APDUs will take about 44 ms each" >&2
    return 0
  fi
  ip route replace local 127.0.0.2/32 dev lo table local scope host src 127.0.0.1 quickack 1
}
