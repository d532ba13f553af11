// How Keel's browser tests and benchmarks start Debian's Chromium: headless, and without
// the background networking that this machine's closed network would refuse.

export const CHROMIUM = process.env.KEEL_E2E_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
