"use strict";
// The level of a remote audio stream, for the page and for the browser tests.
// A remote stream fed only to WebAudio is silent in Chromium: pages also play it in <audio>.
// Returns a function that stops the meter.
function levelMeter(stream, onLevel) {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {  // not requestAnimationFrame: it is throttled in background tabs
    analyser.getFloatTimeDomainData(data);
    let sum = 0; for (const x of data) sum += x * x;
    onLevel(Math.sqrt(sum / data.length));
  }, 5);
  return () => { clearInterval(timer); ctx.close(); };
}
