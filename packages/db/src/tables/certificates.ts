import type { Insertable, Selectable } from "kysely";

/** An issued certificate chain (PEM) with its encrypted private key. */
export interface CertificatesTable {
  id: string;
  workspace_id: string;
  hostname: string;
  certificate: string;
  encrypted_private_key: string;
  expires_at: number;
  created_at: number;
  updated_at: number;
}
export type Certificate = Selectable<CertificatesTable>;
export type NewCertificate = Insertable<CertificatesTable>;
