export const LiveTranscript = (_props: { streamSid: string }) => (
  <p className="muted">The live transcript appears here.</p>
)
