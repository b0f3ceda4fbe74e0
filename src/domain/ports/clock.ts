/**
 * The time, as epoch milliseconds. Domain code that decides by the time
 * takes a Clock instead of reading Date.now(), so a unit test can set the
 * time instead of sleeping through it. Timers (setTimeout) still run on the
 * process's own clock.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
