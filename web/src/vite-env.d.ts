/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The API's origin when the app is served from elsewhere (a CDN); empty: same origin. */
  readonly VITE_API_BASE_URL?: string;
}
interface ImportMeta {
  readonly env: ImportMetaEnv;
}
