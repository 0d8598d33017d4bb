import { applyPatch, productTakesReservations, warehouseServes } from '../../src/domain/catalogue';

const fields = ['name', 'latitude', 'address', 'active'] as const;
const warehouse = { id: 'wh-1', name: 'Hamburg', latitude: 53.5 as number | null, address: { city: 'Hamburg', country: 'DE' } as object | null, active: true };

describe('applyPatch', () => {
  it('sets the fields given and names those whose value changed, in field order', () => {
    const { next, changed } = applyPatch(warehouse, { active: false, name: 'Port' }, fields);
    expect(changed).toEqual(['name', 'active']);
    expect(next).toEqual({ ...warehouse, name: 'Port', active: false });
  });

  it('changes nothing for fields absent or given as they are, objects compared by content in any key order', () => {
    const { next, changed } = applyPatch(warehouse, { name: 'Hamburg', address: { country: 'DE', city: 'Hamburg' } }, fields);
    expect(changed).toEqual([]);
    expect(next).toEqual(warehouse);
  });

  it('clears a field given as null, and sees a changed nested value', () => {
    expect(applyPatch(warehouse, { latitude: null }, fields).changed).toEqual(['latitude']);
    expect(applyPatch(warehouse, { address: { city: 'Altona', country: 'DE' } }, fields).changed).toEqual(['address']);
    expect(applyPatch({ ...warehouse, address: null }, { address: { city: 'Hamburg', country: 'DE' } }, fields).changed).toEqual(['address']);
  });

  it('leaves the record it was given untouched', () => {
    const before = structuredClone(warehouse);
    applyPatch(warehouse, { name: 'Port', latitude: null }, fields);
    expect(warehouse).toEqual(before);
  });
});

describe('catalogue flags', () => {
  it('a warehouse serves only while active; a product takes reservations only while ACTIVE', () => {
    expect([warehouseServes({ active: true }), warehouseServes({ active: false })]).toEqual([true, false]);
    expect([productTakesReservations({ status: 'ACTIVE' }), productTakesReservations({ status: 'DISCONTINUED' })]).toEqual([true, false]);
  });
});
