/** Each error reason's one-line fix, from src/lib/errors.ts at build time (src/console/vite.config.ts). */
declare module "virtual:reason-fixes" {
  const fixes: Record<string, string>;
  export default fixes;
}
