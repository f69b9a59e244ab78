/** A file download (CSV exports). The name is reduced to safe characters. */
export function downloadResponse(filename: string, body: string, type = 'text/csv; charset=utf-8'): Response {
  const safe = filename.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 120);
  return new Response(body, {
    headers: { 'Content-Type': type, 'Content-Disposition': `attachment; filename="${safe}"` },
  });
}
