import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvite } from '@/lib/accounts/invites';
import { teamForMember } from '@/lib/auth/access';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';

// Team invites go out by email when SMTP is configured: a local SMTP sink receives the message.

let d: TestDatabase;
let smtp: SmtpSink;
let userId: string;
let teamId: string;

beforeAll(async () => {
  smtp = await startSmtpSink();
  d = await freshDatabase('invite_mail');
  setEnv({
    DATABASE_URL: d.url,
    SMTP_URL: smtp.url,
    SMTP_FROM: 'Eddy <eddy@example.test>',
    PUBLIC_URL: 'https://eddy.example.test',
  });
  const c = new pg.Client({ connectionString: d.url });
  await c.connect();
  userId = (
    await c.query<{ id: string }>(
      "INSERT INTO users (id, email, name, password_hash) VALUES (gen_random_uuid(), $1, 'Ada', 'x') RETURNING id",
      [`ada-${randomUUID()}@example.test`],
    )
  ).rows[0]!.id;
  teamId = (
    await c.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Growth') RETURNING id")
  ).rows[0]!.id;
  await c.query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'owner')", [teamId, userId]);
  await c.end();
});
afterAll(async () => {
  await closeDb();
  await smtp.close();
  await d?.drop();
});

describe('invite emails', () => {
  it('mail the invite link when the invite names an address and SMTP is configured', async () => {
    const team = await teamForMember(userId, teamId, 'admin');
    const invite = await createInvite(
      { id: userId, email: 'ada@example.test', name: 'Ada', sessionVersion: 0, hasPassword: true, isOperator: false },
      team,
      { role: 'viewer', email: 'grace@example.test', anyoneWithLink: false },
    );
    expect(invite.emailed).toBe(true);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.to).toEqual(['grace@example.test']);
    expect(smtp.mails[0]!.body).toContain('Growth');
    expect(smtp.mails[0]!.body).toContain(`https://eddy.example.test/invite/${invite.token}`);

    // Without an address there is nothing to send: the inviter shares the link.
    const linkOnly = await createInvite(
      { id: userId, email: 'ada@example.test', name: 'Ada', sessionVersion: 0, hasPassword: true, isOperator: false },
      team,
      { role: 'viewer', anyoneWithLink: true },
    );
    expect(linkOnly.emailed).toBe(false);
    expect(smtp.mails).toHaveLength(1);
  });
});
