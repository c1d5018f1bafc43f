-- Test calls from the web console's browser (issue 12) are recorded like any other call,
-- with direction 'web': no Twilio call behind them.
alter table call_logs drop constraint call_logs_direction_check;
alter table call_logs add constraint call_logs_direction_check check (direction in ('inbound', 'outbound', 'web'));
alter table live_calls drop constraint live_calls_direction_check;
alter table live_calls add constraint live_calls_direction_check check (direction in ('inbound', 'outbound', 'web'));
alter table call_admissions drop constraint call_admissions_direction_check;
alter table call_admissions add constraint call_admissions_direction_check check (direction in ('inbound', 'outbound', 'web'));
