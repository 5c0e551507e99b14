// Where the canvas loads a file of the project from. A server client's links are absolute
// paths of the lab already; the kernel canvas' links to large media (a video take, an export)
// are relative to the lab's base URL (studio/service/views.py, LAB_MEDIA_ROUTE), resolved
// here against the page's JupyterLab configuration: a video is streamed, never inlined.

/** The lab's base URL ("/" or "/user/x/"), from the page's JupyterLab configuration. */
export function labBaseUrl(doc: Document = document): string {
  const config = doc.getElementById("jupyter-config-data")?.textContent;
  if (config) {
    try {
      const base = (JSON.parse(config) as { baseUrl?: unknown }).baseUrl;
      if (typeof base === "string" && base) return base.endsWith("/") ? base : `${base}/`;
    } catch {
      // not JSON: fall through to the root
    }
  }
  return "/";
}

/** `url` as the browser loads it: data, blob, absolute and rooted URLs as they are, a
 * relative one under the lab's base URL. */
export function mediaUrl(url: string, base: string = labBaseUrl()): string {
  if (/^(data:|blob:|[a-z][a-z0-9+.-]*:\/\/|\/)/i.test(url)) return url;
  return `${base}${url}`;
}
