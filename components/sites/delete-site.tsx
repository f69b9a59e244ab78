'use client';
import { TypedConfirmDelete } from '../ui/typed-confirm-delete';

export function DeleteSite({ siteId, domain }: { siteId: string; domain: string }) {
  return (
    <TypedConfirmDelete
      noun="site"
      phrase={domain}
      confirms={(typed) => typed.trim().toLowerCase() === domain.toLowerCase()}
      endpoint={`/api/sites/${siteId}`}
      afterwards="/sites"
      inputLabel="Type the domain to confirm"
    >
      This deletes the site, its settings, share links and <strong>all of its analytics data</strong>.
    </TypedConfirmDelete>
  );
}
