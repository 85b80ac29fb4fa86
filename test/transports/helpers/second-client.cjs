// A second, independent PC/SC client (its own process and context), as another application on
// the machine would be. Prints JSON lines.
//   node second-client.cjs "<reader>"        connects SHARED, sends one APDU, disconnects, exits
//   node second-client.cjs "<reader>" hold   connects EXCLUSIVE, prints {stage:"held"}, and holds
//                                            the card until its standard input closes
"use strict";
const pcsc = require("pcsclite")();

const [target, mode] = process.argv.slice(2);
let done = false;

function finish(result) {
  if (done) return;
  done = true;
  console.log(JSON.stringify(result));
  // The binding's own rule: close every reader, then the context (deferred out of callbacks).
  setImmediate(() => {
    pcsc.on("error", () => {});
    for (const reader of Object.values(pcsc.readers)) reader.close();
    pcsc.close();
  });
}

function hold(reader) {
  reader.connect({ share_mode: reader.SCARD_SHARE_EXCLUSIVE }, (error) => {
    if (error) return finish({ stage: "connect", error: error.message });
    console.log(JSON.stringify({ stage: "held" }));
    process.stdin.resume();
    process.stdin.once("end", () => reader.disconnect(reader.SCARD_LEAVE_CARD, () => finish({ stage: "released" })));
  });
}

function sendOne(reader) {
  reader.connect({ share_mode: reader.SCARD_SHARE_SHARED }, (error, protocol) => {
    if (error) return finish({ stage: "connect", error: error.message });
    reader.transmit(Buffer.from("8020000004", "hex"), 258, protocol, (err, response) => {
      const result = err ? { stage: "transmit", error: err.message } : { stage: "transmit", response: response.toString("hex") };
      reader.disconnect(reader.SCARD_LEAVE_CARD, () => finish(result));
    });
  });
}

pcsc.on("error", (error) => finish({ stage: "context", error: error.message }));
pcsc.on("reader", (reader) => {
  reader.on("error", () => {});
  if (reader.name !== target) return;
  reader.once("status", () => (mode === "hold" ? hold(reader) : sendOne(reader)));
});
if (mode !== "hold") setTimeout(() => finish({ stage: "timeout" }), 5000).unref();
