/** Largest `.prov` file accepted (and what the quota counts for one stored before its size was recorded). */
export const MAX_PROVENANCE_BYTES = 256 * 1024;
