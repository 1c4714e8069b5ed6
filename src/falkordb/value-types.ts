// The value type codes of FalkorDB's compact reply format (`--compact`): each
// value comes as [type, value]. Shaping replies for tools and exporting graphs
// both read them.

export const ValueType = {
  Null: 1,
  String: 2,
  Integer: 3,
  Boolean: 4,
  Double: 5,
  Array: 6,
  Edge: 7,
  Node: 8,
  Path: 9,
  Map: 10,
  Point: 11,
  VectorF32: 12,
  DateTime: 13,
  Date: 14,
  Time: 15,
  Duration: 16,
} as const;
