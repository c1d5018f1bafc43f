/**
 * G.711 mu-law (the telephone audio of Twilio Media Streams: 8 kHz, one byte per sample),
 * as in the ITU reference (Sun's g711.c): 0xFF and 0x7F are silence, 0x00 is the loudest
 * negative sample (-32124), 0x80 the loudest positive (32124). Both directions are tables:
 * mixing a 20 ms frame is 160 lookups each way.
 */

const BIAS = 0x84
const CLIP = 32635

const decodeOne = (byte: number): number => {
  const u = ~byte & 0xff
  const magnitude = (((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4)
  return u & 0x80 ? BIAS - magnitude : magnitude - BIAS
}

const encodeOne = (sample: number): number => {
  const sign = sample < 0 ? 0x80 : 0
  let magnitude = Math.min(sign ? -sample : sample, CLIP) + BIAS
  let exponent = 7
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f
  magnitude = sign | (exponent << 4) | mantissa
  return ~magnitude & 0xff
}

/** Linear 16-bit sample of each mu-law byte. */
export const DECODE: Int16Array = Int16Array.from({ length: 256 }, (_, byte) => decodeOne(byte))

/** mu-law byte of each 16-bit sample, indexed by `sample + 32768`. */
const ENCODE: Uint8Array = Uint8Array.from({ length: 65536 }, (_, index) => encodeOne(index - 32768))

export const decode = (byte: number): number => DECODE[byte & 0xff]!

/** The mu-law byte of a linear sample (clipped to 16 bits first). */
export const encode = (sample: number): number =>
  ENCODE[(sample > 32767 ? 32767 : sample < -32768 ? -32768 : Math.trunc(sample)) + 32768]!

/** `a` and `b` (mu-law, the same length) added as linear audio, clipped, into `out` as mu-law. */
export const mixInto = (out: Uint8Array, a: Uint8Array, b: Uint8Array, length: number): void => {
  for (let i = 0; i < length; i++) {
    const sum = DECODE[a[i]!]! + DECODE[b[i]!]!
    out[i] = ENCODE[(sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum) + 32768]!
  }
}
