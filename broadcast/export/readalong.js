// The read-along page: highlight the turn being heard, keep it in view, seek on request.
// Times come from the timeline embedded in the page, so nothing waits for the audio's metadata.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("timeline").textContent);
  const audio = document.getElementById("audio");
  const turns = Array.from(document.querySelectorAll(".turn"));
  const strip = document.getElementById("strip");
  const playhead = document.getElementById("playhead");
  const follow = document.getElementById("follow");
  const top = document.getElementById("top");
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const duration = data.duration_s;
  let current = -1;

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const mm = String(Math.floor(s / 60) % 60), ss = String(s % 60).padStart(2, "0");
    return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
  }

  // The turn heard at time t: the last whose span (with the introduction before it) has begun.
  function turnAt(t) {
    let found = -1;
    data.turns.forEach((turn, n) => { if (turn.from_s <= t + 0.01) found = n; });
    return found;
  }

  function speakerAt(t) {
    const seg = data.segments.find((s) => s.start_s <= t && t < s.end_s);
    return seg ? seg.label : "pause";
  }

  function update(scroll = true) {
    const t = audio.currentTime;
    const n = turnAt(t);
    if (n !== current) {
      if (current >= 0) turns[current].removeAttribute("aria-current");
      current = n;
      if (n >= 0) {
        turns[n].setAttribute("aria-current", "true");
        if (scroll && follow.checked) {
          turns[n].scrollIntoView({ block: "nearest", behavior: reducedMotion.matches ? "auto" : "smooth" });
        }
      }
    }
    playhead.style.left = `${Math.min(100, (100 * t) / duration)}%`;
    strip.setAttribute("aria-valuenow", String(Math.round(t)));
    strip.setAttribute("aria-valuetext", `${clock(t)} of ${clock(duration)}, ${speakerAt(t)}`);
  }

  function seek(t, play) {
    audio.currentTime = Math.max(0, Math.min(t, duration));
    update();
    if (play && audio.paused) audio.play().catch(() => {});  // refused autoplay: stay paused
  }

  turns.forEach((turn, n) => {
    turn.addEventListener("click", () => {
      if (window.getSelection().isCollapsed) seek(data.turns[n].start_s, true);  // not while selecting text
    });
    turn.addEventListener("keydown", (event) => {
      if (event.target === turn && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        seek(data.turns[n].start_s, true);
      }
    });
  });

  strip.addEventListener("click", (event) => {
    const box = strip.getBoundingClientRect();
    seek(((event.clientX - box.left) / box.width) * duration, false);
  });
  strip.addEventListener("keydown", (event) => {
    const t = audio.currentTime;
    const step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 }[event.key];
    if (step !== undefined) seek(t + step, false);
    else if (event.key === "Home") seek(0, false);
    else if (event.key === "End") seek(duration, false);
    else return;
    event.preventDefault();
  });

  // Where the player stays on screen (a tall window), a turn scrolled into view must clear it.
  function clearance() {
    const sticky = window.getComputedStyle(top).position === "sticky";
    document.documentElement.style.scrollPaddingTop = sticky ? `${top.offsetHeight + 8}px` : "";
  }
  window.addEventListener("resize", clearance);
  clearance();

  // timeupdate comes about four times a second: enough for the highlight, not for the playhead.
  function frame() {
    update();
    if (!audio.paused) window.requestAnimationFrame(frame);
  }
  audio.addEventListener("play", () => window.requestAnimationFrame(frame));
  ["timeupdate", "seeked", "pause"].forEach((name) => audio.addEventListener(name, () => update()));
  update(false);  // on opening, the title and the player stay in view
})();
