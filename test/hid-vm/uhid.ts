/**
 * The Linux uhid character-device protocol (include/uapi/linux/uhid.h), as far as a virtual HID key
 * needs it. Every event is one packed `struct uhid_event`: a u32 type, then a union whose largest member
 * (`uhid_create2_req`) makes the whole struct 4376 bytes. Integers are in host order (little-endian on
 * the x86-64 test VM).
 */

/** sizeof(struct uhid_event). A read from /dev/uhid returns exactly one event of this size. */
export const UHID_EVENT_SIZE = 4376;
/** UHID_DATA_MAX and HID_MAX_DESCRIPTOR_SIZE. */
const UHID_DATA_MAX = 4096;

/** enum uhid_event_type (only the non-legacy values). */
export const UhidEvent = {
  DESTROY: 1,
  START: 2,
  STOP: 3,
  OPEN: 4,
  CLOSE: 5,
  OUTPUT: 6,
  GET_REPORT: 9,
  GET_REPORT_REPLY: 10,
  CREATE2: 11,
  INPUT2: 12,
  SET_REPORT: 13,
  SET_REPORT_REPLY: 14,
} as const;

/** enum uhid_report_type. */
export const UHID_OUTPUT_REPORT = 1;
/** BUS_USB from linux/input.h: hidapi then reports the device like a USB key. */
export const BUS_USB = 0x03;
const EIO = 5;

/** What the kernel is told about a virtual HID device. */
export interface UhidDeviceSpec {
  /** HID_NAME; hidapi shows it as the product string of a uhid device. */
  name: string;
  vendorId: number;
  productId: number;
  /** Report descriptor (see {@link dataReportDescriptor}). */
  reportDescriptor: Uint8Array;
  /** HID_UNIQ; hidapi shows it as the serial number. */
  serial?: string;
}

function putString(event: Buffer, offset: number, size: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length >= size) throw new RangeError(`uhid string field must be shorter than ${size} bytes`);
  bytes.copy(event, offset);
}

/** `struct uhid_create2_req`: name[128] phys[64] uniq[64] rd_size bus vendor product version country rd_data. */
export function encodeCreate2(spec: UhidDeviceSpec): Buffer {
  if (spec.reportDescriptor.length > UHID_DATA_MAX) throw new RangeError("report descriptor too long");
  const event = Buffer.alloc(UHID_EVENT_SIZE);
  event.writeUInt32LE(UhidEvent.CREATE2, 0);
  putString(event, 4, 128, spec.name);
  putString(event, 132, 64, "otpbridge-test/uhid");
  putString(event, 196, 64, spec.serial ?? "");
  event.writeUInt16LE(spec.reportDescriptor.length, 260);
  event.writeUInt16LE(BUS_USB, 262);
  event.writeUInt32LE(spec.vendorId, 264);
  event.writeUInt32LE(spec.productId, 268);
  event.writeUInt32LE(0x0100, 272); // version (bcdDevice)
  event.writeUInt32LE(0, 276); // country
  event.set(spec.reportDescriptor, 280);
  return event;
}

/** `struct uhid_input2_req`: u16 size, then the input report (no report ID: the descriptor has none). */
export function encodeInput2(report: Uint8Array): Buffer {
  const event = Buffer.alloc(4 + 2 + report.length);
  event.writeUInt32LE(UhidEvent.INPUT2, 0);
  event.writeUInt16LE(report.length, 4);
  event.set(report, 6);
  return event;
}

/** A bare UHID_DESTROY. */
export function encodeDestroy(): Buffer {
  const event = Buffer.alloc(4);
  event.writeUInt32LE(UhidEvent.DESTROY, 0);
  return event;
}

/** Refuses a GET_REPORT or SET_REPORT request (feature reports are not part of docs/PROTOCOL.md §4.9). */
export function encodeReportRefusal(request: Buffer): Buffer {
  const type = request.readUInt32LE(0) === UhidEvent.GET_REPORT ? UhidEvent.GET_REPORT_REPLY : UhidEvent.SET_REPORT_REPLY;
  const event = Buffer.alloc(type === UhidEvent.GET_REPORT_REPLY ? 12 : 10);
  event.writeUInt32LE(type, 0);
  event.writeUInt32LE(request.readUInt32LE(4), 4); // id
  event.writeUInt16LE(EIO, 8); // err
  return event;
}

/** The type of an event read from /dev/uhid. */
export function eventType(event: Buffer): number {
  return event.readUInt32LE(0);
}

/**
 * The output report in a UHID_OUTPUT event (`struct uhid_output_req`: data[4096], u16 size, u8 rtype).
 * hidraw passes the report-number byte through: with no numbered reports it is a leading 00, removed here.
 */
export function decodeOutput(event: Buffer): { reportType: number; report: Uint8Array } {
  const size = event.readUInt16LE(4 + UHID_DATA_MAX);
  const reportType = event.readUInt8(4 + UHID_DATA_MAX + 2);
  const data = event.subarray(4, 4 + Math.min(size, UHID_DATA_MAX));
  const report = data.length > 0 && data[0] === 0 ? data.subarray(1) : data;
  return { reportType, report: new Uint8Array(report) };
}

/**
 * A report descriptor with one application collection on `usagePage`/`usage`, holding one 64-byte input
 * report and one 64-byte output report, no report IDs: the shape of a FIDO key's HID interface
 * (usage page F1D0, usage 01, data usages 20 in / 21 out), or of a vendor-page interface.
 */
export function dataReportDescriptor(usagePage: number, usage: number, reportSize = 64): Uint8Array {
  const item = (...bytes: number[]): number[] => bytes;
  return Uint8Array.from([
    ...item(0x06, usagePage & 0xff, usagePage >> 8), // Usage Page (2 bytes)
    ...item(0x09, usage), // Usage
    ...item(0xa1, 0x01), // Collection (Application)
    ...item(0x09, 0x20), //   Usage (data in)
    ...item(0x15, 0x00), //   Logical Minimum 0
    ...item(0x26, 0xff, 0x00), //   Logical Maximum 255
    ...item(0x75, 0x08), //   Report Size 8 bits
    ...item(0x95, reportSize), //   Report Count
    ...item(0x81, 0x02), //   Input (Data, Variable, Absolute)
    ...item(0x09, 0x21), //   Usage (data out)
    ...item(0x15, 0x00),
    ...item(0x26, 0xff, 0x00),
    ...item(0x75, 0x08),
    ...item(0x95, reportSize),
    ...item(0x91, 0x02), //   Output (Data, Variable, Absolute)
    0xc0, // End Collection
  ]);
}
