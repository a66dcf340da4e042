/** Names of clients, profiles and secrets become file names, URL parts and certificate CNs: keep them boring. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const NAME_RULE = 'use 1–63 characters: lowercase letters, digits, dot, dash or underscore, starting with a letter or digit';
