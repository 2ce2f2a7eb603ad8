/// A binary min-heap ordered by a key, ties broken by insertion order (so it is stable).
public struct MinHeap<Key: Comparable, Element> {
    private var items: [(key: Key, order: UInt64, element: Element)] = []
    private var order: UInt64 = 0

    public init() {}

    public var count: Int { items.count }
    public var isEmpty: Bool { items.isEmpty }
    public var minKey: Key? { items.first?.key }
    public var min: Element? { items.first?.element }

    @inline(__always) private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].key != items[b].key ? items[a].key < items[b].key : items[a].order < items[b].order
    }

    public mutating func push(_ element: Element, key: Key) {
        order &+= 1
        items.append((key, order, element))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if less(i, p) { items.swapAt(i, p); i = p } else { break }
        }
    }

    public mutating func popMin() -> Element? {
        guard !items.isEmpty else { return nil }
        let top = items[0].element
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && less(l, m) { m = l }
                if r < items.count && less(r, m) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
