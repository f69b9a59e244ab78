// Types for security-headers.mjs (the project does not type-check JavaScript).
export declare const CONTENT_SECURITY_POLICY: string;
export declare const SECURITY_HEADERS: { key: string; value: string }[];
