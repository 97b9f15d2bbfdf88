import { Readable } from 'node:stream';
import express, { Request, Response } from 'express';
import { jsonNestsDeeperThan, v1JsonParser } from './body-parsing';
import { readRawBody, readUploadBody } from './upload-body';

/** A request as Node hands it to Express: a readable body with headers. */
function fakeRequest(body: string, url: string, contentType: string): Request {
  return Object.assign(Readable.from([Buffer.from(body)]), {
    url,
    method: 'POST',
    headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) },
  }) as unknown as Request;
}

const run = (mw: express.RequestHandler, req: Request) =>
  new Promise<unknown>((resolve) => mw(req, {} as Response, resolve));

describe('jsonNestsDeeperThan', () => {
  it('counts arrays and objects, not brackets inside strings or after escapes', () => {
    expect(jsonNestsDeeperThan(Buffer.from('[[[]]]'), 3)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from('[[[[]]]]'), 3)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from('{"a":{"b":[1]}}'), 3)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from('{"a":{"b":[{}]}}'), 3)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify({ s: '[[[[{{{{' })), 1)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify({ s: 'x\\"[[[[' })), 1)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from(`{"s":"\\"",${'['.repeat(5)}`), 4)).toBe(true);
  });
});

describe('v1JsonParser', () => {
  it('finds the nesting of a UTF-16 body, whose bytes can pose as quotes', async () => {
    // "∀" is 00 22 in UTF-16LE: a byte scan would think a string opened and never see the brackets.
    const bomb = `["∀",${'['.repeat(200)}${']'.repeat(200)}]`;
    const req = Object.assign(Readable.from([Buffer.from(bomb, 'utf16le')]), {
      url: '/sessions',
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-16le',
        'content-length': String(Buffer.byteLength(bomb, 'utf16le')),
      },
    }) as unknown as Request;
    expect(await run(v1JsonParser(), req)).toMatchObject({ code: 'json_too_deep' });
    const fine = fakeRequest('{"a":[[1]]}', '/sessions', 'application/json; charset=utf-8');
    expect(await run(v1JsonParser(), fine)).toBeUndefined();
    expect(fine.body).toEqual({ a: [[1]] });
  });
});

describe('raw readers after a parser took the stream', () => {
  it('get the exact bytes the JSON parser consumed instead of waiting for them', async () => {
    const body = '{"id":"evt_1", "type":"x"}';
    const req = fakeRequest(body, '/some/other/spelling', 'application/json');
    expect(await run(v1JsonParser(), req)).toBeUndefined();
    expect(req.body).toEqual({ id: 'evt_1', type: 'x' });
    expect((await readRawBody(req, 1024)).toString()).toBe(body);
    await expect(readRawBody(req, 4)).rejects.toMatchObject({ code: 'upload_too_large' });
  });

  it('answer body_already_read when the bytes are gone, raw or multipart', async () => {
    const req = fakeRequest('a=b', '/x', 'application/x-www-form-urlencoded');
    await run(express.urlencoded({ extended: false }), req);
    await expect(readRawBody(req, 1024)).rejects.toMatchObject({ code: 'body_already_read' });
    const multipart = fakeRequest('a=b', '/x', 'application/x-www-form-urlencoded');
    await run(express.urlencoded({ extended: false }), multipart);
    multipart.headers['content-type'] = 'multipart/form-data; boundary=x';
    await expect(readUploadBody(multipart, 1024)).rejects.toMatchObject({ code: 'body_already_read' });
  });

  it('leaves the webhook raw under any case of its path', async () => {
    for (const url of ['/webhooks/stripe', '/Webhooks/Stripe/', '/WEBHOOKS/STRIPE?x=1']) {
      const req = fakeRequest('{"a":1}', url, 'application/json');
      await run(v1JsonParser(), req);
      expect(req.body).toBeUndefined();
      expect((await readRawBody(req, 1024)).toString()).toBe('{"a":1}');
    }
  });
});
