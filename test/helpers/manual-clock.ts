/** A clock and a timer queue a test moves by hand: no real time passes. */
export function manualClock() {
  let now = 1000;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    schedule: (fn: () => void, ms: number) => { const t = { at: now + ms, fn, cancelled: false }; timers.push(t); return () => { t.cancelled = true; }; },
    advance(ms: number) {
      now += ms;
      for (const t of timers.splice(0)) {
        if (t.cancelled) continue;
        if (t.at <= now) t.fn();
        else timers.push(t);
      }
    },
    /** Timers set and not yet run nor cancelled. */
    pending: () => timers.filter((t) => !t.cancelled).length,
  };
}
