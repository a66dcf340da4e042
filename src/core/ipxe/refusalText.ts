/**
 * The first line of every refusal an iPXE console shows: nginx's TLS refusals (generated config) and the boot service's
 * answers say it alike, so a person reading a board's console knows the farm, not the network, said no.
 */
export const REFUSED_HEADLINE = 'iPXE Farm refused this machine:';
