/** This build's version, as `--version` and the incident report say it (test/unit/tool-version.test.ts: package.json's). */
export const TOOL_VERSION = '0.1.0';
