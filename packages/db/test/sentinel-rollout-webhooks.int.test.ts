/**
 * The rollout webhook delivery record against a real database: the first attempt creates the row
 * as `sending` and in flight, later attempts only count; an ended attempt clears `in_flight`; once
 * `delivered` the row stays delivered (a late failure report or another attempt never reopens it);
 * a POST cut off by a crash becomes `unknown`; a rollout's records list in event order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  beginRolloutWebhookAttempt,
  findRolloutWebhook,
  listRolloutWebhooks,
  markRolloutWebhookDelivered,
  markRolloutWebhookUnknown,
  recordRolloutWebhookFailure,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

describe("rollout webhook deliveries", () => {
  it("counts attempts, records delivery once and never reopens a delivered notification", async () => {
    const ref = { eventId: "ro_w:1", rolloutId: "ro_w", seq: 1, event: "started" };
    expect(await findRolloutWebhook(database.db, ref.eventId)).toBeUndefined();
    await beginRolloutWebhookAttempt(database.db, ref, 10);
    expect(await findRolloutWebhook(database.db, ref.eventId)).toMatchObject({ status: "sending", attempts: 1, in_flight: 1 });
    await recordRolloutWebhookFailure(database.db, ref.eventId, "webhook http://127.0.0.1:1 answered 503", false, 11);
    await beginRolloutWebhookAttempt(database.db, ref, 12);
    expect(await findRolloutWebhook(database.db, ref.eventId)).toMatchObject({
      status: "sending",
      attempts: 2,
      in_flight: 1,
      last_error: "webhook http://127.0.0.1:1 answered 503",
    });
    await markRolloutWebhookDelivered(database.db, ref.eventId, 13);
    await recordRolloutWebhookFailure(database.db, ref.eventId, "late", true, 14);
    await beginRolloutWebhookAttempt(database.db, ref, 15);
    const row = await findRolloutWebhook(database.db, ref.eventId);
    expect(row).toMatchObject({ status: "delivered", last_error: null, seq: 1, event: "started", rollout_id: "ro_w" });
    await markRolloutWebhookUnknown(database.db, ref.eventId, 16);
    expect((await findRolloutWebhook(database.db, ref.eventId))!.status).toBe("delivered");
    expect(Number(row!.delivered_at)).toBe(13);
  });

  it("gives up a notification and lists a rollout's records in event order", async () => {
    for (const seq of [3, 2])
      await beginRolloutWebhookAttempt(database.db, { eventId: `ro_g:${seq}`, rolloutId: "ro_g", seq, event: "paused" }, 1);
    await recordRolloutWebhookFailure(database.db, "ro_g:3", "refused with 404", true, 2);
    const rows = await listRolloutWebhooks(database.db, "ro_g");
    expect(rows.map((r) => [r.event_id, r.status])).toEqual([
      ["ro_g:2", "sending"],
      ["ro_g:3", "given_up"],
    ]);
  });
});
