import type { z } from 'zod';
import type { certKindSchema, certRecordSchema, certStatusSchema, pkiIndexSchema } from './indexSchema';

/** The PKI index's types, from its one definition (indexSchema.ts). */
export type CertKind = z.infer<typeof certKindSchema>;
export type CertStatus = z.infer<typeof certStatusSchema>;
export type CertRecord = z.infer<typeof certRecordSchema>;
export type PkiIndex = z.infer<typeof pkiIndexSchema>;
