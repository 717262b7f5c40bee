/**
 * "Site" as Chromium partitions storage by: scheme + registrable domain, ports ignored.
 * Approximation without the Public Suffix List: the last two DNS labels (wrong for e.g. co.uk,
 * where it merges sites — the safe direction: we then omit topOrigin only for such pairs), the whole
 * host for IP addresses and single-label hosts such as localhost.
 */
export function siteOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const host = parsed.hostname;
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
  const labels = host.split('.');
  const registrable = isIp || labels.length <= 2 ? host : labels.slice(-2).join('.');
  return `${parsed.protocol}//${registrable}`;
}

/** The top document's origin when `frameOrigin` is cross-site to it (partitioned storage), else undefined. */
export function crossSiteTopOrigin(frameOrigin: string, topUrl: string | undefined): string | undefined {
  if (!topUrl) return undefined;
  const topSite = siteOf(topUrl);
  if (!topSite || topSite === siteOf(frameOrigin)) return undefined;
  return new URL(topUrl).origin;
}
