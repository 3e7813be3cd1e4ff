/**
 * The version a scan report gives Arca's own rule sets (signature, secrets, archive, sbom): bumped
 * whenever one of their rules changes, so a report says which rules judged the bytes.
 */
export const BUILTIN = 'arca-builtin-1';
