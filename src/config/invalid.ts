/** A value problem ("must be …: fix") raised before the caller knows which source to name. */
export class Invalid extends Error {}
