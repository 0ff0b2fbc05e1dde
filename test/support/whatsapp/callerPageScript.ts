/**
 * What the WhatsApp user's phone runs in Chromium, as plain browser JavaScript (the test build
 * has no DOM types): makeOffer() and answerOffer(sdp) gather every candidate before returning the
 * SDP (Meta's SDP is not trickled), applyAnswer(sdp), isConnected(), and listen(ms) for the
 * loudest frequency and level of what the gateway sends.
 */
export const CALLER_PAGE_SCRIPT = String.raw`
const gathered = (pc) =>
  new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
  });

const listenTo = (event) => {
  const stream = event.streams[0] || new MediaStream([event.track]);
  // Chromium feeds a remote stream to WebAudio only while a media element plays it too.
  const element = new Audio();
  element.muted = true;
  element.srcObject = stream;
  element.play();
  const context = new AudioContext({ sampleRate: 48000 });
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  context.createMediaStreamSource(stream).connect(analyser);
  window.analyser = analyser;
  window.audioContext = context;
};

const phone = async () => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  pc.ontrack = listenTo;
  const microphone = await navigator.mediaDevices.getUserMedia({ audio: true });
  return { pc, microphone };
};

window.makeOffer = async () => {
  const { pc, microphone } = await phone();
  for (const track of microphone.getTracks()) pc.addTrack(track, microphone);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return pc.localDescription.sdp;
};

window.answerOffer = async (sdp) => {
  const { pc, microphone } = await phone();
  await pc.setRemoteDescription({ type: 'offer', sdp });
  for (const track of microphone.getTracks()) pc.addTrack(track, microphone);
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return pc.localDescription.sdp;
};

window.applyAnswer = async (sdp) => {
  await window.pc.setRemoteDescription({ type: 'answer', sdp });
};

window.sendDtmf = (digits) => {
  const sender = window.pc.getSenders().find((s) => s.dtmf);
  sender.dtmf.insertDTMF(digits, 120, 80);
};

window.isConnected = () => window.pc && window.pc.connectionState === 'connected';

window.listen = async (ms) => {
  const start = Date.now();
  while (!window.analyser && Date.now() - start < 10000) await new Promise((r) => setTimeout(r, 50));
  const analyser = window.analyser;
  if (!analyser) return { frequencyHz: 0, levelDbfs: -200 };
  const bins = new Float32Array(analyser.frequencyBinCount);
  const sum = new Float64Array(analyser.frequencyBinCount);
  const wave = new Float32Array(analyser.fftSize);
  let power = 0;
  let frames = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    analyser.getFloatFrequencyData(bins);
    for (let i = 0; i < bins.length; i++) sum[i] += Math.pow(10, bins[i] / 10);
    analyser.getFloatTimeDomainData(wave);
    for (const sample of wave) power += sample * sample;
    frames += wave.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  let peak = 1;
  for (let i = 1; i < sum.length; i++) if (sum[i] > sum[peak]) peak = i;
  return {
    frequencyHz: (peak * window.audioContext.sampleRate) / analyser.fftSize,
    levelDbfs: 10 * Math.log10(power / Math.max(1, frames) + 1e-20),
  };
};
`;
