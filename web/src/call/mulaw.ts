// G.711 mu-law, as Twilio Media Streams carry it (8 kHz, 8-bit). The page converts at its
// edges only: microphone samples in, the agent's audio out.

const BIAS = 0x84
const CLIP = 32635

export const encodeSample = (sample: number): number => {
  let pcm = Math.max(-1, Math.min(1, sample)) * 32767
  const sign = pcm < 0 ? 0x80 : 0
  if (pcm < 0) pcm = -pcm
  pcm = Math.min(CLIP, pcm) + BIAS
  let exponent = 7
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  const mantissa = (pcm >> (exponent + 3)) & 0x0f
  return ~(sign | (exponent << 4) | mantissa) & 0xff
}

export const decodeSample = (byte: number): number => {
  const value = ~byte & 0xff
  const sign = value & 0x80
  const exponent = (value >> 4) & 0x07
  const mantissa = value & 0x0f
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS
  return (sign !== 0 ? -magnitude : magnitude) / 32768
}

export const encode = (samples: Float32Array): Uint8Array => {
  const out = new Uint8Array(samples.length)
  for (let i = 0; i < samples.length; i++) out[i] = encodeSample(samples[i]!)
  return out
}

export const decode = (bytes: Uint8Array): Float32Array<ArrayBuffer> => {
  const out = new Float32Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = decodeSample(bytes[i]!)
  return out
}

export const toBase64 = (bytes: Uint8Array): string => {
  let text = ""
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!)
  return btoa(text)
}

export const fromBase64 = (text: string): Uint8Array => {
  const raw = atob(text)
  const out = new Uint8Array(raw.length)
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i)
  return out
}
