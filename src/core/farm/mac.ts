const CANONICAL = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** Normalise a MAC to iPXE's `${mac}` form (lowercase, colons); undefined when it is not a MAC. */
export function normaliseMac(mac: string): string | undefined {
  if (CANONICAL.test(mac)) return mac; // how farm files and iPXE write it: the common case, checked once
  const hex = mac.trim().toLowerCase().replace(/[-:.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}
