import { z } from 'zod';
import { readMessage, UNPARSEABLE } from '../../src/amqp/settle';

const schema = z.object({ allocationId: z.uuid() });

describe('readMessage', () => {
  it('reads a body that is JSON of the expected shape', () => {
    const id = '01a20981-06be-7000-8000-000000000001';
    expect(readMessage(Buffer.from(JSON.stringify({ allocationId: id })), schema, 'invalid_message')).toEqual({ ok: true, value: { allocationId: id } });
  });

  it('calls a body that is not JSON unparseable and keeps its text', () => {
    expect(readMessage(Buffer.from('not json {'), schema, 'invalid_message')).toEqual({
      ok: false,
      reason: UNPARSEABLE,
      error: expect.stringContaining('not JSON'),
      payload: { raw: 'not json {' },
    });
  });

  it('names JSON the schema refuses with the given reason, the path of each issue, and the body', () => {
    expect(readMessage(Buffer.from('{"allocationId": 7}'), schema, 'invalid_event')).toEqual({
      ok: false,
      reason: 'invalid_event',
      error: expect.stringContaining('allocationId'),
      payload: { allocationId: 7 },
    });
  });
});
