package hclcheck

import (
	"bytes"
	"fmt"
)

// frame is one open construct of native syntax.
type frame struct {
	// kind is the closing byte of a bracket ( ')', ']' or '}' ), 'i' for a
	// template interpolation, 's' for a quoted template, 'h' for a heredoc
	// template and 't' for the top level.
	kind byte
	// marker is the terminator of a heredoc.
	marker []byte
	// operators counts the operator characters of the current item.
	operators int
}

// scanner walks source byte by byte and stops at the first limit it finds.
type scanner struct {
	src    []byte
	pos    int
	line   int
	column int

	stack     []frame
	depth     int // open brackets and interpolations
	operators int // sum of the operators of the frames on the stack
	unaryRun  int // consecutive ! and - characters, spaces ignored

	err                         string
	errLine, errColumn, errByte int
}

func (s *scanner) fail(format string, args ...any) {
	if s.err != "" {
		return
	}
	s.err = fmt.Sprintf(format, args...)
	s.errLine, s.errColumn, s.errByte = s.line, s.column, s.pos
}

// advance moves past n bytes and keeps the line and column.
func (s *scanner) advance(n int) {
	for ; n > 0 && s.pos < len(s.src); n-- {
		if s.src[s.pos] == '\n' {
			s.line++
			s.column = 1
		} else {
			s.column++
		}
		s.pos++
	}
}

func (s *scanner) hasPrefix(p string) bool {
	return bytes.HasPrefix(s.src[s.pos:], []byte(p))
}

func (s *scanner) top() *frame { return &s.stack[len(s.stack)-1] }

func (s *scanner) push(f frame) {
	s.stack = append(s.stack, f)
	if f.kind != 's' && f.kind != 'h' {
		s.depth++
		if s.depth > MaxDepth {
			s.fail("nesting is deeper than %d levels of brackets, blocks and template "+
				"interpolations; flatten the configuration", MaxDepth)
		}
	}
}

func (s *scanner) pop() {
	f := s.top()
	s.operators -= f.operators
	if f.kind != 's' && f.kind != 'h' {
		s.depth--
	}
	s.stack = s.stack[:len(s.stack)-1]
}

// resetItem starts a new item in the innermost frame.
func (s *scanner) resetItem() {
	f := s.top()
	s.operators -= f.operators
	f.operators = 0
}

// scanNative checks native syntax.
func (s *scanner) scanNative() {
	s.stack = []frame{{kind: 't'}}
	for s.pos < len(s.src) && s.err == "" {
		switch s.top().kind {
		case 's':
			s.stringTemplate()
		case 'h':
			s.heredocTemplate()
		default:
			s.expression()
		}
	}
}

// stringTemplate handles one byte, or one escape, of a quoted template.
func (s *scanner) stringTemplate() {
	switch {
	case s.src[s.pos] == '\\':
		s.advance(2)
	case s.src[s.pos] == '"':
		s.pop()
		s.advance(1)
	default:
		s.templateText()
	}
}

// heredocTemplate handles one byte of a heredoc, or its terminator line.
func (s *scanner) heredocTemplate() {
	if s.column == 1 {
		end := bytes.IndexByte(s.src[s.pos:], '\n')
		if end < 0 {
			end = len(s.src) - s.pos
		}
		line := bytes.TrimRight(bytes.TrimLeft(s.src[s.pos:s.pos+end], " \t"), " \t\r")
		if bytes.Equal(line, s.top().marker) {
			s.pop()
			s.advance(end)
			return
		}
	}
	s.templateText()
}

// templateText handles literal text and the start of an interpolation or
// directive in a template.
func (s *scanner) templateText() {
	switch {
	case s.hasPrefix("$${"), s.hasPrefix("%%{"):
		s.advance(3)
	case s.hasPrefix("${"), s.hasPrefix("%{"):
		s.advance(2)
		s.push(frame{kind: 'i'})
	default:
		s.advance(1)
	}
}

var closers = map[byte]byte{'(': ')', '[': ']', '{': '}'}

// expression handles one token, comment or byte of an expression or body.
func (s *scanner) expression() {
	c := s.src[s.pos]
	s.countUnary(c)
	switch {
	case c == '#' || s.hasPrefix("//"):
		s.skipLine()
	case s.hasPrefix("/*"):
		end := bytes.Index(s.src[s.pos+2:], []byte("*/"))
		if end < 0 {
			s.advance(len(s.src))
			return
		}
		s.advance(end + 4)
	case c == '"':
		s.advance(1)
		s.push(frame{kind: 's'})
	case s.hasPrefix("<<"):
		s.heredocStart()
	case s.hasPrefix("[*]"):
		// A splat adds a tree level, as a binary operator does.
		s.countOperator('*')
		s.advance(3)
	case closers[c] != 0:
		s.advance(1)
		s.push(frame{kind: closers[c]})
	case c == ')' || c == ']' || c == '}':
		if k := s.top().kind; k == c || (k == 'i' && c == '}') {
			s.pop()
		}
		s.advance(1)
	case c == ',' || (c == '\n' && (s.top().kind == 't' || s.top().kind == '}')):
		s.resetItem()
		s.advance(1)
	default:
		s.countOperator(c)
		s.advance(1)
	}
}

// countUnary counts c into the current run of unary operators.
func (s *scanner) countUnary(c byte) {
	if c == '!' || c == '-' {
		s.unaryRun++
		if s.unaryRun > MaxDepth {
			s.fail("more than %d unary operators in a row; simplify the expression",
				MaxDepth)
		}
	} else if c != ' ' && c != '\t' {
		s.unaryRun = 0
	}
}

// countOperator counts c when it is an operator character.
func (s *scanner) countOperator(c byte) {
	if bytes.IndexByte([]byte("+-*/%<>=!&|?:"), c) < 0 {
		return
	}
	s.top().operators++
	s.operators++
	if s.operators > MaxOperators {
		s.fail("more than %d operators in one attribute or element; split the expression",
			MaxOperators)
	}
}

// heredocStart opens a heredoc "<<ID" or "<<-ID" that ends its line. Any
// other "<<" is left for the parser to reject.
func (s *scanner) heredocStart() {
	rest := s.src[s.pos+2:]
	rest = bytes.TrimPrefix(rest, []byte("-"))
	end := bytes.IndexByte(rest, '\n')
	if end < 0 {
		s.advance(2)
		return
	}
	marker := bytes.TrimRight(rest[:end], " \t\r")
	if len(marker) == 0 {
		s.advance(2)
		return
	}
	s.advance(len(s.src[s.pos:]) - len(rest) + end + 1)
	s.push(frame{kind: 'h', marker: marker})
}

func (s *scanner) skipLine() {
	end := bytes.IndexByte(s.src[s.pos:], '\n')
	if end < 0 {
		end = len(s.src) - s.pos
	}
	s.advance(end)
}

// scanJSON checks HCL's JSON syntax. Its strings may hold templates whose
// nested quotes are escaped, so inside a string every bracket and
// interpolation counts, balanced or not, and the count ends with the
// string.
func (s *scanner) scanJSON() {
	s.stack = []frame{{kind: 't'}}
	inString := false
	stringDepth := 0
	for s.pos < len(s.src) && s.err == "" {
		c := s.src[s.pos]
		switch {
		case inString && c == '\\':
			s.advance(2)
			continue
		case inString && c == '"':
			inString = false
			s.depth -= stringDepth
			stringDepth = 0
			s.resetItem()
		case inString && (s.hasPrefix("$${") || s.hasPrefix("%%{")):
			s.advance(3)
			continue
		case inString && (c == '(' || c == '[' || c == '{'):
			stringDepth++
			s.depth++
		case inString && (c == ')' || c == ']' || c == '}') && stringDepth > 0:
			stringDepth--
			s.depth--
		case inString && stringDepth > 0:
			s.countUnary(c)
			s.countOperator(c)
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			s.depth++
		case (c == '}' || c == ']') && s.depth > 0:
			s.depth--
		}
		if s.depth > MaxDepth {
			s.fail("nesting is deeper than %d levels of brackets and template "+
				"interpolations; flatten the configuration", MaxDepth)
		}
		s.advance(1)
	}
}
