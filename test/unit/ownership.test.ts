import fc from 'fast-check';
import { actingFor, canSee, listOwner, ownerOf, scopeOf } from '../../src/domain/ownership';

describe('ownership', () => {
  it("owns by the token's tenant when it has one, else by its sub", () => {
    expect(ownerOf({ sub: 'checkout-1', tenant: 'tenant-a' })).toBe('tenant-a');
    expect(ownerOf({ sub: 'checkout-1' })).toBe('checkout-1');
  });

  it("lets a service caller see only its own owner's objects, and an admin every owner's", () => {
    const service = scopeOf({ sub: 'checkout-1', role: 'service', tenant: 'tenant-a' });
    const admin = scopeOf({ sub: 'ops', role: 'admin' });
    expect([canSee(service, 'tenant-a'), canSee(service, 'tenant-b'), canSee(service, 'checkout-1')]).toEqual([true, false, false]);
    expect([canSee(admin, 'tenant-a'), canSee(admin, 'tenant-b')]).toEqual([true, true]);
    expect(admin.owner).toBe('ops');
  });

  it("lets an order service's events see only the owner their publisher is bound to", () => {
    expect([canSee(actingFor('tenant-a'), 'tenant-a'), canSee(actingFor('tenant-a'), 'tenant-b')]).toEqual([true, false]);
  });

  it('narrows a list to the owner an admin names, and a service caller to its own whatever it names', () => {
    const admin = scopeOf({ sub: 'ops', role: 'admin' });
    const service = scopeOf({ sub: 'checkout-1', role: 'service' });
    expect([listOwner(admin, undefined), listOwner(admin, 'tenant-b')]).toEqual([undefined, 'tenant-b']);
    expect([listOwner(service, undefined), listOwner(service, 'checkout-1'), listOwner(service, 'tenant-b')]).toEqual(['checkout-1', 'checkout-1', null]);
  });

  it('never lets a service caller see, or list, an object of an owner other than its own', () => {
    const text = fc.string({ minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(text, fc.option(text, { nil: undefined }), text, fc.option(text, { nil: undefined }), (sub, tenant, owner, requested) => {
        const scope = scopeOf({ sub, role: 'service', tenant });
        const own = tenant ?? sub;
        expect(canSee(scope, owner)).toBe(owner === own);
        const listed = listOwner(scope, requested);
        expect(listed === null || listed === own).toBe(true);
      }),
    );
  });
});
