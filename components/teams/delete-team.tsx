'use client';
import { TypedConfirmDelete } from '../ui/typed-confirm-delete';

export function DeleteTeam({ teamId, name }: { teamId: string; name: string }) {
  return (
    <TypedConfirmDelete
      noun="team"
      phrase={name}
      confirms={(typed) => typed.trim() === name.trim()}
      endpoint={`/api/teams/${teamId}`}
      afterwards="/teams"
      inputLabel="Type the team name to confirm"
    >
      This deletes the team, its members’ access, its sites and <strong>all of their analytics data</strong>.
    </TypedConfirmDelete>
  );
}
