import Link from 'next/link';
import { redirect } from 'next/navigation';
import { sitesForMember } from '@/lib/auth/access';
import { currentUser } from '@/lib/auth/current-user';

export default async function SitesPage() {
  const user = await currentUser();
  if (!user) redirect('/login');
  const sites = await sitesForMember(user.id);
  return (
    <section>
      <h1 className="text-2xl font-semibold tracking-tight">Your sites</h1>
      {sites.length === 0 ? (
        <p className="mt-4 text-slate-500">No sites yet.</p>
      ) : (
        <ul className="mt-4 divide-y divide-slate-200 rounded-xl bg-white ring-1 ring-slate-200">
          {sites.map((s) => (
            <li key={s.id}>
              <Link href={`/sites/${s.id}`} className="flex items-center justify-between px-4 py-3 hover:bg-slate-50">
                <span className="font-medium">{s.name}</span>
                <span className="text-sm text-slate-500">{s.domain}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
