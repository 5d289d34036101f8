/** A clock for durations and "ago" labels. */
import { useEffect, useState } from 'react';

/** The current time in ms, updated every `intervalMs` (one timer per caller). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
