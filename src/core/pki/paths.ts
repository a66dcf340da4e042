/** The PKI's file map is part of the farm's layout (farm/pkiPaths.ts), so an opened farm carries it; the PKI asks here. */
export { pkiPaths, type PkiPaths } from '../farm/light';
