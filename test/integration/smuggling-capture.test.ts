/**
 * Request smuggling, the capture: a smuggled request whose body the next user's request would complete
 * must never read bob's token (as alice, or anonymous on a `token: none` route); and well-formed
 * requests (pipelined requests of two users, Expect: 100-continue) are each forwarded once, intact,
 * with their own token (test/helpers/smuggling-stack.ts).
 */
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { chunked, RawConnection } from '../helpers/raw-http.js';
import type { RecordingUpstream } from '../helpers/recording-upstream.js';
import type { SignedIn } from '../helpers/gateway.js';
import { SMUGGLED, useSmugglingStack } from '../helpers/smuggling-stack.js';

const world = useSmugglingStack();
const { token, signedIn, request, expectBadRequest, expectUpstreamSaw } = world;
let up: RecordingUpstream;
let alice: SignedIn;
let bob: SignedIn;
let port: number;
beforeAll(() => {
  ({ up, alice, bob, port } = world);
});

describe("the capture: a smuggled request whose body the next user's request would complete", () => {
  // The smuggled POST's Content-Length is large enough to swallow a whole request head. The notes
  // store keeps a body while it streams in, so a capture shows even though the victim's request then
  // waits for the rest: the test needs no knowledge of the victim's exact request length.
  const notesPost = (target: string) =>
    `POST ${target}/notes HTTP/1.1\r\nHost: upstream\r\nContent-Type: text/plain\r\nContent-Length: 400\r\n\r\nCAPTURED:`;

  it.each([
    { attacker: 'alice (signed in)', prefix: '/api', target: '/v1', anonymous: false },
    { attacker: 'anonymous, on a token: none route', prefix: '/public', target: '/pub', anonymous: true },
    {
      attacker: 'anonymous, smuggling into another route',
      prefix: '/public',
      target: '/v1',
      anonymous: true,
    },
  ])("$attacker never reads bob's token", async ({ prefix, target, anonymous }) => {
    const aliceToken = await token(alice);
    const bobToken = await token(bob);
    const who = anonymous ? [] : signedIn(alice);
    const body = notesPost(target);

    const attack = await RawConnection.open(port);
    await attack.write(
      request(
        'GET',
        `${prefix}/hello`,
        [...who, 'Connection: content-length', `Content-Length: ${body.length}`],
        body,
      ),
    );
    const attacked = await attack.response();
    expect(await attack.endAndReadRest()).toBe('');

    // Bob's ordinary request. A vulnerable gateway feeds it into the smuggled body and bob waits for
    // an answer that never comes: race his answer against the capture, so that case fails fast.
    const victim = await RawConnection.open(port);
    await victim.write(request('GET', '/api/bob-capture', signedIn(bob)));
    const bobAnswer = victim.response({ timeoutMs: 10_000 });
    bobAnswer.catch(() => undefined); // awaited below; a vulnerable run fails before that
    onTestFinished(() => victim.destroy());
    const first = await Promise.race([
      bobAnswer.then(() => 'answered'),
      up.waitForNote(bobToken).then(() => 'captured'),
    ]);

    const readBack = await RawConnection.open(port);
    await readBack.write(request('GET', `${prefix}/notes`, who));
    const notes = await readBack.response();
    readBack.destroy();
    expect(notes.status).toBe(200);
    expect(notes.text).not.toContain(bobToken);
    expect(notes.text).not.toContain('CAPTURED');
    expect(up.notes()).toEqual([]);
    expect(first).toBe('answered');

    const bobRes = await bobAnswer;
    victim.destroy();
    expect(bobRes.status).toBe(200);
    expect(JSON.parse(bobRes.text)).toMatchObject({ url: '/v1/bob-capture', bearer: bobToken });

    const attackerToken = anonymous ? undefined : aliceToken;
    const bobSeen = { method: 'GET', url: '/v1/bob-capture', bearer: bobToken };
    const readSeen = {
      method: 'GET',
      url: `${prefix === '/api' ? '/v1' : '/pub'}/notes`,
      bearer: attackerToken,
    };
    if (attacked.status === 400) {
      expectBadRequest(attacked, 'GET', false);
      expectUpstreamSaw([bobSeen, readSeen]);
    } else {
      expect(attacked.status).toBe(200);
      const helloUrl = `${prefix === '/api' ? '/v1' : '/pub'}/hello`;
      expectUpstreamSaw([{ method: 'GET', url: helloUrl, bearer: attackerToken }, bobSeen, readSeen]);
      expect(up.log[0]!.body.toString()).toBe(body);
    }
  });
});

describe('well-formed requests', () => {
  it('pipelined requests of two users on one connection: each forwarded once, each with its own token', async () => {
    const conn = await RawConnection.open(port);
    await conn.write(
      request('GET', '/api/pipe-1', signedIn(alice)) +
        request('POST', '/api/pipe-2', [...signedIn(bob), 'Content-Length: 5'], 'hello') +
        request('HEAD', '/api/pipe-3', signedIn(alice)) +
        request('DELETE', '/api/pipe-4', [...signedIn(bob), 'Transfer-Encoding: chunked'], chunked('bye')),
    );
    const answers = [
      await conn.response(),
      await conn.response(),
      await conn.response({ method: 'HEAD' }),
      await conn.response(),
    ];
    expect(await conn.endAndReadRest()).toBe('');
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const [a, b] = [await token(alice), await token(bob)];
    expect(JSON.parse(answers[0]!.text)).toMatchObject({ url: '/v1/pipe-1', bearer: a });
    expect(JSON.parse(answers[1]!.text)).toMatchObject({ url: '/v1/pipe-2', bearer: b, body: 'hello' });
    expect(JSON.parse(answers[3]!.text)).toMatchObject({ url: '/v1/pipe-4', bearer: b, body: 'bye' });
    expectUpstreamSaw([
      { method: 'GET', url: '/v1/pipe-1', bearer: a },
      { method: 'POST', url: '/v1/pipe-2', bearer: b },
      { method: 'HEAD', url: '/v1/pipe-3', bearer: a },
      { method: 'DELETE', url: '/v1/pipe-4', bearer: b },
    ]);
  });

  it('Expect: 100-continue: the body follows the 100 and is forwarded once, intact', async () => {
    const body = 'x'.repeat(70_000) + SMUGGLED;
    const conn = await RawConnection.open(port);
    await conn.write(
      request('POST', '/api/upload', [
        ...signedIn(alice),
        'Expect: 100-continue',
        `Content-Length: ${body.length}`,
      ]),
    );
    const interim = await conn.next();
    expect(interim.status).toBe(100);
    await conn.write(body);
    const res = await conn.response();
    expect(await conn.endAndReadRest()).toBe('');
    expect(res.status).toBe(200);
    expectUpstreamSaw([{ method: 'POST', url: '/v1/upload', bearer: await token(alice) }]);
    expect(up.log[0]!.body.toString()).toBe(body);
  });
});
