# Renders an app's config/nginx.conf.erb as heroku-buildpack-nginx does with Ruby's `erb`
# command, but with the static mruby the nginx artifact carries (a dyno has no Ruby we can count
# on). Run as `mruby erb.rb TEMPLATE`: the rendered text goes to stdout, all at once and only if
# the whole template rendered; an error goes to stderr as "TEMPLATE:LINE: what" and exits 1.
#
# The template language is Ruby's own, so a template that renders under the anchor renders the
# same here. What mruby's core lacks, and templates use, is supplied below: ENV, RbConfig,
# `require` of the standard libraries a template loads, JSON.parse, and regular expressions made
# only of literal text (`=~ /darwin/`). A pattern beyond that is refused with its line.
#
# ERB's syntax as the `erb` command reads it (trim mode "%"): `<%= %>`, `<% %>`, `<%# %>`,
# `<%%` for a literal `<%`, and lines that begin with `%` are Ruby (`%%` for a literal `%`). We
# also take the "-" trim forms (`<%-` drops the indentation before a tag that starts its line,
# `-%>` the newline after it), which this buildpack has always read; under the anchor they are
# a syntax error (but in a comment, where `-%>` is text and the newline stays, as here), so no
# template that works there changes meaning.

ENV = File.read("/proc/self/environ").split("\0").each_with_object({}) do |pair, env|
  name, value = pair.split("=", 2)
  env[name] = value.to_s if name && !name.empty?
end

def ENV.fetch(name, *default)
  return self[name] if key?(name)
  return yield(name) if block_given?
  return default[0] unless default.empty?
  raise KeyError, "key not found: #{name.inspect}: ENV.fetch of a variable that is not set (set it, or give ENV.fetch a default)"
end

# What templates ask of it: `RbConfig::CONFIG['host_os'] =~ /darwin/`, to tell a laptop from a dyno.
module RbConfig
  CONFIG = { "host_os" => "linux" }
end

# Only literal text, with an optional ^ or \A before it and $, \z or \Z after it, and the i flag.
class Regexp
  attr_reader :source

  def initialize(source, options = nil, *rest)
    @source = source.to_s
    @ignore_case = options == true || (options.is_a?(Integer) && options & 1 == 1) || options.to_s.include?("i")
    parts = Regexp.literal_parts(@source)
    unless parts
      raise NotImplementedError, "the regular expression /#{@source}/ is more than literal text, " \
        "which is all this renderer matches (mruby has no Regexp): compare strings instead " \
        "(==, include?, start_with?, end_with?)"
    end
    @start, @text, @end = parts
  end

  def self.compile(*args)
    new(*args)
  end

  META = "^$.|?*+()[]{}"

  # [anchored at the start, the text, anchored at the end], or nil if SOURCE is more than that.
  def self.literal_parts(source)
    rest = source
    start = false
    ["^", "\\A"].each do |a|
      next unless rest.start_with?(a)
      start = true
      rest = rest[a.length..-1]
      break
    end
    ending = false
    ["\\z", "\\Z", "$"].each do |z|
      next unless rest.end_with?(z) && !(z == "$" && rest.end_with?("\\$"))
      ending = true
      rest = rest[0, rest.length - z.length]
      break
    end
    text = ""
    i = 0
    while i < rest.length
      c = rest[i]
      if c == "\\"
        n = rest[i + 1]
        return nil unless n && (META + "\\/-").include?(n)
        text << n
        i += 2
      else
        return nil if META.include?(c)
        text << c
        i += 1
      end
    end
    [start, text, ending]
  end

  # Where the text matches in STRING, or nil.
  def =~(string)
    return nil if string.nil?
    s = string.to_s
    t = @text
    s, t = s.downcase, t.downcase if @ignore_case
    if @start
      return nil unless s.start_with?(t) && (!@end || s.length == t.length)
      0
    elsif @end
      s.end_with?(t) ? s.length - t.length : nil
    else
      s.index(t)
    end
  end

  def match?(string)
    !(self =~ string).nil?
  end

  def ===(string)
    string.is_a?(String) && match?(string)
  end

  def inspect
    "/#{@source}/"
  end

  # The text, for the String methods that take one: only where matching it is finding the text.
  def plain_text
    return @text unless @start || @end || @ignore_case
    raise NotImplementedError, "the regular expression /#{@source}/ is anchored or ignores case, " \
      "which this renderer matches with =~, match? and === only (mruby has no Regexp): " \
      "use a string with split, sub, gsub and index"
  end
end

class String
  def =~(other)
    other =~ self
  end

  # split, sub, gsub and index with a regular expression of plain text (no anchors, no i) take
  # it as the text it is; mruby's own versions take strings only.
  %i[split sub gsub index].each do |name|
    alias_method :"string_#{name}", name
    define_method(name) do |*args, &block|
      args[0] = args[0].plain_text if args[0].is_a?(Regexp)
      __send__(:"string_#{name}", *args, &block)
    end
  end
end

# The standard libraries a template loads: already here (or nothing to load). Any other is refused.
class LoadError < ScriptError; end

module Kernel
  def require(name)
    return false if %w[erb json rbconfig].include?(name.to_s)
    raise LoadError, "cannot load #{name}: this renderer has ERB, ENV, JSON.parse and RbConfig, no other library"
  end
end

# JSON.parse, for a template that reads structured config from a variable
# (`JSON.parse(ENV['REDIRECTS'])`).
module JSON
  class ParserError < StandardError; end

  def self.parse(text, opts = {})
    Parser.new(text.to_s, opts[:symbolize_names]).document
  end

  class Parser
    ESCAPES = { '"' => '"', "\\" => "\\", "/" => "/", "b" => "\b", "f" => "\f", "n" => "\n", "r" => "\r", "t" => "\t" }

    def initialize(text, symbolize)
      @s = text
      @i = 0
      @symbolize = symbolize
    end

    def document
      v = value
      space
      fail_at("end of input") if @i < @s.length
      v
    end

    private

    def fail_at(expected)
      raise ParserError, "unexpected #{@i < @s.length ? @s[@i].inspect : 'end of input'} at character #{@i + 1} of the JSON (expected #{expected})"
    end

    def space
      @i += 1 while @i < @s.length && " \t\r\n".include?(@s[@i])
    end

    def value
      space
      c = @s[@i]
      case c
      when "{" then object
      when "[" then array
      when '"' then string
      when "t" then word("true", true)
      when "f" then word("false", false)
      when "n" then word("null", nil)
      else
        fail_at("a value") unless c && "-0123456789".include?(c)
        number
      end
    end

    def word(text, v)
      fail_at(text) unless @s[@i, text.length] == text
      @i += text.length
      v
    end

    def number
      j = @i
      @i += 1 while @i < @s.length && "-+0123456789.eE".include?(@s[@i])
      t = @s[j...@i]
      t.include?(".") || t.include?("e") || t.include?("E") ? t.to_f : t.to_i
    end

    def string
      @i += 1
      out = ""
      loop do
        c = @s[@i]
        fail_at('"') if c.nil?
        @i += 1
        break if c == '"'
        if c == "\\"
          e = @s[@i]
          @i += 1
          if e == "u"
            code = @s[@i, 4].to_i(16)
            @i += 4
            # A character beyond the BMP comes as a surrogate pair.
            if code >= 0xD800 && code <= 0xDBFF && @s[@i, 2] == "\\u"
              low = @s[@i + 2, 4].to_i(16)
              if low >= 0xDC00 && low <= 0xDFFF
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                @i += 6
              end
            end
            out << [code].pack("U")
          else
            fail_at("an escape") unless ESCAPES.key?(e)
            out << ESCAPES[e]
          end
        else
          out << c
        end
      end
      out
    end

    # items CLOSE: the comma-separated items up to CLOSE, each read by the block.
    def items(close)
      @i += 1
      space
      return @i += 1 if @s[@i] == close
      loop do
        yield
        space
        c = @s[@i]
        @i += 1
        break if c == close
        fail_at(", or #{close}") unless c == ","
      end
    end

    def array
      a = []
      items("]") { a << value }
      a
    end

    def object
      h = {}
      items("}") do
        space
        fail_at("a key") unless @s[@i] == '"'
        k = string
        space
        fail_at(":") unless @s[@i] == ":"
        @i += 1
        h[@symbolize ? k.to_sym : k] = value
      end
      h
    end
  end
end

# ERB's compile step: the template as Ruby source that appends to _erbout, one source line per
# template line, so that an error's line number is the template's.
module ERBSource
  def self.compile(text)
    lines = [[]] # statements per source line
    add = lambda { |stmt| lines.last << stmt }
    put_text = lambda do |t|
      t.split("\n", -1).each_with_index do |seg, k|
        lines << [] if k > 0
        last = k == t.count("\n")
        piece = last ? seg : seg + "\n"
        add.call("_erbout << #{piece.inspect}") unless piece.empty?
      end
    end
    put_code = lambda do |code|
      first, *more = code.split("\n", -1)
      add.call(first)
      more.each { |l| lines << [l] }
    end
    i = 0
    bol = true # at the beginning of a template line
    while i < text.length
      if bol && text[i] == "%"
        eol = text.index("\n", i) || text.length
        if text[i + 1] == "%"
          # A literal %, and the rest of the line read as any other.
          put_text.call("%")
          i += 2
          bol = false
          next
        else
          put_code.call(text[i + 1...eol])
          lines << [] if eol < text.length
        end
        i = eol + 1
        next
      end
      open = text.index("<%", i)
      eol = text.index("\n", i)
      if eol && (open.nil? || eol < open)
        put_text.call(text[i..eol])
        i = eol + 1
        bol = true
        next
      end
      if open.nil?
        put_text.call(text[i..-1])
        break
      end
      before = text[i...open]
      if text[open + 2] == "%"
        put_text.call(before + "<%")
        i = open + 3
        bol = false
        next
      end
      kind = text[open + 2]
      start = open + 2
      if kind == "-"
        before = "" if before.strip.empty? && (open == 0 || bol)
        start += 1
        kind = text[start]
      end
      put_text.call(before)
      start += 1 if kind == "=" || kind == "#"
      close = start
      body = ""
      loop do
        j = text.index("%>", close)
        raise SyntaxError, "line #{text[0, open].count("\n") + 1}: a <% tag that is never closed with %>" unless j
        if text[j - 1] == "%" && j - 1 >= close
          body << text[close...j - 1] << "%>"
          close = j + 2
          next
        end
        body << text[close...j]
        close = j + 2
        break
      end
      # Under the anchor's trim mode a comment's "-%>" is part of the comment: the newline stays.
      trim = body.end_with?("-") && kind != "#"
      body = body[0...-1] if trim
      case kind
      when "=" then put_code.call("_erbout << ((#{body}).to_s)")
      when "#" then body.count("\n").times { lines << [] }
      else put_code.call(body)
      end
      i = close
      bol = false
      if trim && text[i] == "\n"
        lines << []
        i += 1
        bol = true
      end
    end
    # The value of the whole: the buffer, on the last line, as Ruby's ERB puts it.
    lines.last << "_erbout"
    lines.map { |stmts| stmts.join("; ") }.join("\n")
  end
end

def erb_render(path)
  source = ERBSource.compile(File.read(path))
  eval("_erbout = +''; #{source}", nil, path, 1)
end

# "PATH:LINE: what (its class)", as Ruby's own messages name a place in a file.
def erb_failure(path, e)
  msg = e.message.to_s
  if e.is_a?(SyntaxError)
    # mruby's parser says "file PATH line N: ..."; ours "line N: ...".
    n = msg.index("line ") ? msg.split("line ", 2)[1] : msg
    where = n.to_i
    msg = n.split(": ", 2)[1] || msg
    return "#{path}:#{where}: #{msg} (SyntaxError)" if where > 0
  end
  frame = (e.backtrace || []).map(&:to_s).find { |l| l.start_with?("#{path}:") }
  line = frame ? frame[path.length + 1..-1].to_i : 0
  "#{path}#{line > 0 ? ":#{line}" : ''}: #{msg} (#{e.class})"
end

path, program = ARGV
begin
  $stdout.write(erb_render(path))
rescue Exception => e
  $stderr.write("#{program ? "#{program}: error: " : ''}#{erb_failure(path, e)}\n")
  exit 1
end
