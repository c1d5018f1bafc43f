/**
 * A small, strict XML reader for TwiML in tests (what Twilio's parser would reject, this
 * rejects too: unbalanced tags, unquoted attributes, stray `<` or `&`, unknown entities).
 */
export interface XmlElement {
  readonly name: string
  readonly attributes: Record<string, string>
  readonly children: Array<XmlElement>
  readonly text: string
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" }

const decode = (raw: string): string => {
  if (/[<]/.test(raw)) throw new Error(`unescaped '<' in ${JSON.stringify(raw)}`)
  return raw.replace(/&([^;]*);?/g, (match, name: string) => {
    if (!match.endsWith(";")) throw new Error(`unterminated entity in ${JSON.stringify(raw)}`)
    if (name.startsWith("#x")) return String.fromCodePoint(parseInt(name.slice(2), 16))
    if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10))
    const value = ENTITIES[name]
    if (value === undefined) throw new Error(`unknown entity &${name};`)
    return value
  })
}

export const parseXml = (source: string): XmlElement => {
  let pos = 0
  const rest = () => source.slice(pos)
  const skipSpace = () => {
    while (pos < source.length && /\s/.test(source[pos]!)) pos++
  }
  if (rest().startsWith("<?xml")) {
    const end = source.indexOf("?>", pos)
    if (end === -1) throw new Error("unterminated XML declaration")
    pos = end + 2
  }
  const element = (): XmlElement => {
    skipSpace()
    const open = /^<([A-Za-z_][\w.-]*)/.exec(rest())
    if (open === null) throw new Error(`expected an element at ${pos}: ${rest().slice(0, 30)}`)
    pos += open[0].length
    const name = open[1]!
    const attributes: Record<string, string> = {}
    for (;;) {
      skipSpace()
      if (rest().startsWith("/>")) {
        pos += 2
        return { name, attributes, children: [], text: "" }
      }
      if (rest().startsWith(">")) {
        pos += 1
        break
      }
      const attr = /^([A-Za-z_][\w.-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest())
      if (attr === null) throw new Error(`malformed attribute in <${name}> at ${pos}`)
      if (attr[1]! in attributes) throw new Error(`duplicate attribute ${attr[1]}`)
      attributes[attr[1]!] = decode(attr[3] ?? attr[4] ?? "")
      pos += attr[0].length
    }
    const children: Array<XmlElement> = []
    let text = ""
    for (;;) {
      const next = source.indexOf("<", pos)
      if (next === -1) throw new Error(`unclosed <${name}>`)
      text += decode(source.slice(pos, next))
      pos = next
      if (rest().startsWith(`</${name}>`)) {
        pos += name.length + 3
        return { name, attributes, children, text }
      }
      if (rest().startsWith("</")) throw new Error(`mismatched closing tag at ${pos}: expected </${name}>`)
      children.push(element())
    }
  }
  const root = element()
  skipSpace()
  if (pos !== source.length) throw new Error(`content after the root element: ${rest().slice(0, 30)}`)
  return root
}

/** Children named `name`, at any depth. */
export const findAll = (root: XmlElement, name: string): Array<XmlElement> =>
  root.children.flatMap((child) => [...(child.name === name ? [child] : []), ...findAll(child, name)])

/** The `<Parameter name value>` pairs of a `<Stream>`. */
export const streamParameters = (root: XmlElement): Record<string, string> =>
  Object.fromEntries(findAll(root, "Parameter").map((p) => [p.attributes.name!, p.attributes.value!]))
