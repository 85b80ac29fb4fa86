# The TEST side's services, sourced by scripts/test.sh and by the PC/SC tests (test/fixtures/pcscd.ts):
# the extra test readers and their driver copies, a pcscd of the test script's own that may be
# restarted, and the quickack route. Nothing the product runs (scripts/start.sh, the package) uses
# this file: the product never installs reader configuration nor stops or restarts pcscd.

PCSCD_SOCKET=/run/pcscd/pcscd.comm
PCSCD_LOG="${TMPDIR:-/tmp}/otpbridge-pcscd.log"
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
VPCD_DRIVER_COPIES=/usr/local/lib/otpbridge-vpcd
TEST_READER_CONF=/etc/reader.conf.d/otpbridge-test

# Installs test/fixtures/reader.conf (more vpcd readers) and the driver copies it names: each
# extra vpcd reader needs its own copy of libifdvpcd, whose slot state is one static array per
# loaded library (see the comments in that file). Returns 0 when something changed, so that a
# running pcscd, which reads reader.conf.d only at start, must be restarted.
install_test_readers() {
  [ -f test/fixtures/reader.conf ] && [ -f "$VPCD_DRIVER" ] && [ "$(id -u)" -eq 0 ] || return 1
  local changed=1 lib
  for lib in $(awk '$1 == "LIBPATH" { print $2 }' test/fixtures/reader.conf); do
    case "$lib" in "$VPCD_DRIVER_COPIES"/*) ;; *) continue ;; esac
    if ! cmp -s "$VPCD_DRIVER" "$lib"; then
      mkdir -p "$VPCD_DRIVER_COPIES"
      install -m 0644 "$VPCD_DRIVER" "$lib"
      changed=0
    fi
  done
  if ! cmp -s test/fixtures/reader.conf "$TEST_READER_CONF"; then
    install -m 0644 test/fixtures/reader.conf "$TEST_READER_CONF"
    changed=0
  fi
  return "$changed"
}

# The one command that starts pcscd: in the foreground mode (there is no systemd here), detached
# from this shell, without --auto-exit (it would quit after 60 s idle). Waits for its socket.
start_pcscd() {
  mkdir -p /run/pcscd
  rm -f "$PCSCD_SOCKET"
  nohup pcscd --foreground --debug >"$PCSCD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 100); do [ -S "$PCSCD_SOCKET" ] && return 0; sleep 0.05; done
  echo "services: pcscd did not create $PCSCD_SOCKET" >&2
  return 1
}

# Stops the running pcscd (by its process id) and waits until it has exited.
stop_pcscd() {
  local pids
  pids="$(pgrep -x pcscd)" || return 0
  # shellcheck disable=SC2086 # one id per word
  kill $pids
  for _ in $(seq 1 100); do pgrep -x pcscd >/dev/null || return 0; sleep 0.05; done
  echo "services: pcscd did not exit" >&2
  return 1
}

# Starts pcscd if it is not running, and restarts it if the test readers were just installed.
# Readers come from /etc/reader.conf.d/ (vsmartcard-vpcd declares two) plus test/fixtures/reader.conf.
ensure_pcscd() {
  if ! command -v pcscd >/dev/null; then
    echo "services: pcscd is not installed; PC/SC end-to-end tests will be skipped" >&2
    return 0
  fi
  local changed=1
  install_test_readers && changed=0
  if [ -S "$PCSCD_SOCKET" ] && pgrep -x pcscd >/dev/null; then
    [ "$changed" -ne 0 ] && return 0
    echo "services: test readers installed; restarting pcscd to load them" >&2
    stop_pcscd || return 1
  fi
  start_pcscd
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
