-- Translation calls (issue 9): one row per room, written by POST /voice/translation-calls
-- before either leg is dialled. The media streams of the two legs find their room, their
-- languages and the other leg's call here (matched on the stream token's tenant and call).
-- host_base_url is the replica both legs' streams are sent to (docs/translation-calls.md).
create table translation_rooms (
  room_id uuid primary key,
  tenant_id text not null references tenants (tenant_id) on delete cascade,
  language_a text not null,
  language_b text not null,
  participant_a text not null,
  participant_b text not null,
  call_sid_a text,
  call_sid_b text,
  host_base_url text,
  created_at timestamptz not null,
  ended_at timestamptz,
  end_reason text
);
create index translation_rooms_call_a_idx on translation_rooms (tenant_id, call_sid_a);
create index translation_rooms_call_b_idx on translation_rooms (tenant_id, call_sid_b);
